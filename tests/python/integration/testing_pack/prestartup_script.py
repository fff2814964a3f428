# Runs before any pack is imported (ComfyUI's prestartup contract); the pack reports what it saw.
import os
import sys

os.environ["TESTING_PACK_PRESTARTUP"] = "ran"
os.environ["TESTING_PACK_PRESTARTUP_SAW_PACK"] = "yes" if any("testing_pack" in m for m in sys.modules) else "no"
