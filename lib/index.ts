export * from './config/environment-config';
export * from './config/load-environments';
export { ModelshipError } from './private/errors';
export * from './registry/artifact-layout';
export * from './registry/model-package-group';
export * from './registry/model-registry';
export * from './stage/environment-stages';
export * from './stage/modelship-stage';
