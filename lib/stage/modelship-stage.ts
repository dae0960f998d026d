import { Duration, Stack, Stage, StageProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config/environment-config';
import { ModelRegistry } from '../registry/model-registry';

/** Properties of a {@link ModelshipStage}. */
export interface ModelshipStageProps extends StageProps {
  /** The environment's validated settings. */
  readonly environment: EnvironmentConfig;
}

/**
 * One environment (dev, staging, prod) of the modelship toolkit: every construct, composed
 * from the environment's settings. Deploy it with `cdk deploy '<name>/*'`.
 */
export class ModelshipStage extends Stage {
  /** The stack that holds the model registry. */
  public readonly registryStack: Stack;
  /** The environment's model registry. */
  public readonly registry: ModelRegistry;

  constructor(scope: Construct, props: ModelshipStageProps) {
    const { environment } = props;
    super(scope, environment.name, {
      env: { account: environment.account, region: environment.region },
      ...props,
    });
    const describe = (what: string) =>
      `modelship ${what} (${environment.name}${environment.description ? `: ${environment.description}` : ''})`;

    this.registryStack = new Stack(this, 'Registry', { description: describe('model registry') });
    this.registry = new ModelRegistry(this.registryStack, 'ModelRegistry', {
      readerAccounts: environment.registry.readerAccounts,
      noncurrentVersionExpiration: Duration.days(environment.registry.noncurrentVersionExpirationDays),
      destroyOnRemoval: environment.registry.removal === 'destroy',
    });
  }
}
