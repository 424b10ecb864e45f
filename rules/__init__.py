"""From a Document to a Report and its Findings. Format knowledge is data (formats/*.toml)."""
