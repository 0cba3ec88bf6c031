"""The app's pages, one module per page kind; ``views.admin`` holds the administration area.

Each page module exposes a Blueprint ``bp``; :func:`resolver.create_app` registers the
modules listed in :data:`resolver.BLUEPRINTS`, so adding an area is a new module and one line
there.
"""
