"""Static files of the web chat and desk (a package so setuptools ships them as package data)."""
