import sys

from source_billcom.cli import main

sys.exit(main())
