"""Run Debian's nova-manage: exactly what /usr/bin/nova-manage does.

The package that ships the /usr/bin/nova-manage console script (nova-common) is not installed on
the test machine, only the library (python3-nova). The console script is a two-line entry point
into nova.cmd.manage:main, so running that function is running the real command, with nova's own
argument parsing, configuration handling and database migrations.

Usage: python3 nova_manage.py --config-file nova.conf api_db sync
"""
import sys

from nova.cmd.manage import main

if __name__ == '__main__':
    sys.argv[0] = 'nova-manage'
    sys.exit(main())
