"""The Tornado front end: HTTP app, command line, launch helpers."""
