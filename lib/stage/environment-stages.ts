import { App } from 'aws-cdk-lib';
import { ENVIRONMENT_SELECTOR_CONTEXT_KEY, ENVIRONMENTS_CONTEXT_KEY } from '../config/environment-config';
import { parseEnvironments, selectEnvironments } from '../config/load-environments';
import { ModelshipStage } from './modelship-stage';

/**
 * Adds one {@link ModelshipStage} per environment declared in the app's context
 * (`modelship:environments` in cdk.json), or only those named by `-c env=NAME[,NAME]`.
 */
export function addEnvironmentStages(app: App): ModelshipStage[] {
  const environments = selectEnvironments(
    parseEnvironments(app.node.tryGetContext(ENVIRONMENTS_CONTEXT_KEY)),
    app.node.tryGetContext(ENVIRONMENT_SELECTOR_CONTEXT_KEY),
  );
  return environments.map((environment) => new ModelshipStage(app, environment.name, { environment }));
}
