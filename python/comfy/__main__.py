import sys

from comfy._app import main

sys.exit(main())
