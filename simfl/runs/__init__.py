"""Running a scenario: simulate in memory (runner), write and read run directories (directory),
and the front door's functions (api). Import the module you need; this package imports
nothing, so ``simfl.load_scenario`` stays light."""
