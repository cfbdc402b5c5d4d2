from raks.cli.main import run

run()
