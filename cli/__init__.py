"""`r42`, the command ops run: load the registry, run a step of the cycle by hand, import a
form, look at deliveries, check a deployment before go-live (``main.py`` builds the parser;
each ``*.py`` adds its group of commands)."""
