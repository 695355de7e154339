"""Built-in plugins: every scheme kind, function, reader and writer tierkit ships."""
