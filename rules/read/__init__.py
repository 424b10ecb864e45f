"""Document → Report: sections, tables and metadata, anchored on labels (never on positions alone)."""
