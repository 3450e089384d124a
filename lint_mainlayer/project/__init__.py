"""The project-wide analysis: follow configs and loads across the modules of the user's project.

A file's own analysis (`rules/`) sees one module. When the file belongs to a project (the
nearest folder above it with a `pyproject.toml` or `.git`), this package reads the other
modules of that project from disk, resolves the imports between them (`imports`), and keeps
a small summary of each module that matters (`summary`): the calls it makes to the
project's own callables, with where each argument's config comes from and whether a weight
load reaches the result, and the functions and classes that load weights into one of their
parameters. `index` turns the summaries into the `ProjectView` (`view`) of one module that
the rules consult (`types`), through the hooks in `rules/project_callers.py`. Summaries are plain data, cached by
content hash and tool version (`store`).

Layering: the api builds views (it owns paths and the cache); the engine hands one to the
rules' `Context`; nothing here prints or raises for a bad file.
"""
