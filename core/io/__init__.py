"""Tables in and files out: typed reading of customer and order files, safe output files, streaming XLSX."""
