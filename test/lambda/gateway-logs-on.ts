// Imported first by a test that reads the gateway's own log lines (test/setup-env.ts silences them):
// the handlers' logger reads its level once, when the shared gateway module loads.
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
