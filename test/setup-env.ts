// Before each test file: the AWS SDK's Node.js version notice stays out of the test output (the
// CLI sets the same variable itself; the e2e test proves it), and so do the handlers' own logs
// and EMF metrics. Tests that assert metrics turn EMF back on (test/lambda/gateway-env.ts).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
