import sys

from pinterest_pipeline.cli import main

sys.exit(main())
