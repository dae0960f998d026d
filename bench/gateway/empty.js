// Loaded by run.ts to time the import of a module that does nothing: the floor of a cold import.
