import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';

/** A variant property a deploy can set or leave alone. */
export type VariantProperty = 'DesiredWeight' | 'DesiredInstanceCount';

/**
 * Who owns variant weights and instance counts once the endpoint exists. Every endpoint
 * config change makes CloudFormation call `UpdateEndpoint`, which resets weights and counts
 * to the new config's initial values unless told to retain them: a plain `cdk deploy` would
 * undo a release manager's traffic shift and the autoscaler's work.
 */
export class TrafficOwnership {
  /** Each deploy sets weights and counts from the code. For single-variant endpoints without autoscaling. */
  public static readonly DEPLOYMENT = new TrafficOwnership('deployment', false, []);

  /** The release process (controller, CLI, autoscaler) owns weights and counts; deploys keep them. */
  public static readonly RELEASE_PROCESS = new TrafficOwnership('release-process', true, []);

  /**
   * The release process owns weights and counts except the properties named, which each
   * deploy sets from the code (e.g. `['DesiredInstanceCount']` without autoscaling).
   */
  public static releaseProcessExcept(deployOwns: VariantProperty[]): TrafficOwnership {
    return new TrafficOwnership('release-process', true, [...new Set(deployOwns)]);
  }

  private constructor(
    /** Who owns weights and counts. */
    public readonly owner: 'deployment' | 'release-process',
    private readonly retainAll: boolean,
    private readonly deployOwns: VariantProperty[],
  ) {}

  /** Whether deploys leave this property as the release process set it. */
  public retains(property: VariantProperty): boolean {
    return this.retainAll && !this.deployOwns.includes(property);
  }

  /** The `AWS::SageMaker::Endpoint` properties that carry the choice. */
  public render(): Pick<sagemaker.CfnEndpointProps, 'retainAllVariantProperties' | 'excludeRetainedVariantProperties'> {
    return {
      retainAllVariantProperties: this.retainAll,
      excludeRetainedVariantProperties: this.deployOwns.length > 0
        ? this.deployOwns.map((variantPropertyType) => ({ variantPropertyType }))
        : undefined,
    };
  }
}
