"""The AWS CDK app that deploys Relais: tables, the Chalice app, stream wiring, alarms.

Nothing in this package is named ``app``: Chalice imports the module named ``app`` from
the project root, and a second one on ``sys.path`` would shadow it.
"""
