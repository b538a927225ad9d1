// The sync status page's "check all" box (a static file: the Content-Security-Policy
// allows scripts from the site only, no inline script).
document.getElementById("sync-check-all")?.addEventListener("change", function (event) {
  document.querySelectorAll("#sync-rows .sync-check").forEach(function (box) {
    box.checked = event.target.checked;
  });
});
