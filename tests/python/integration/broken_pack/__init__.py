# A pack that fails to import: the server must log it (IMPORT FAILED) and start anyway.
raise ImportError("broken_pack cannot be imported on purpose")
