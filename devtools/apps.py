from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Development tools: the demo organization, the synthetic load and the benchmark.

    The top layer: it may import commerce, customers and jobs; none of them imports it.
    """

    name = "devtools"
    label = "devtools"
