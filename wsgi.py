"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import gc

# Start-up creates some 150,000 objects that live as long as the process (modules, classes,
# mappers, routes). The cyclic collector would walk them again and again while they are being
# created (a tenth of the start-up time), and then at every full collection while serving;
# they are frozen instead (the pattern of the gc.freeze() documentation). What is frozen is
# never collected: the few hundred objects of garbage the imports leave are kept, once.
gc.disable()
try:
    from learning import create_app

    app = create_app()
finally:
    gc.freeze()
    gc.enable()
