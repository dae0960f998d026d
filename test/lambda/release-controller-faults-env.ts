/**
 * The fault suite runs thousands of ticks: the controller's logs (a line per tick and per failed
 * delivery) are silenced, as jest's console capture would dominate its run time. Imported before
 * the handler, which creates its logger at load.
 */
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
