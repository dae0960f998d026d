// Before each test file: the AWS SDK's Node.js version notice stays out of the test output (the
// CLI sets the same variable itself; the e2e test proves it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
