/**
 * Stands in for `@aws-sdk/credential-provider-node` in every bundled hook (an esbuild alias set
 * by `HandlerFunction`). Lambda always hands a function its role's credentials in environment
 * variables, so the default chain's SSO, profile, process, web-identity and metadata providers
 * (and the STS and SSO clients they bring) are dead weight: about 100 KB of each minified bundle.
 */
export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';
