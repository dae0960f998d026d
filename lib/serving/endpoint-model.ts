import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { IModelRegistry } from '../registry/model-registry';
import { ContainerImage } from '../training/container-image';

/** The context key whose value, when set, replaces the deploy time that re-resolves `latestApproved`. */
export const DEPLOY_ID_CONTEXT_KEY = 'modelship:deploy-id';

/**
 * Acknowledges the managed policy on the role of CDK's AwsCustomResource function, which the
 * stack's lookups share. The lookup's `grantPrincipal` is that role: CDK offers no option to
 * create the function without the managed policy (a `role` prop would apply to every
 * AwsCustomResource in the stack, including the user's).
 */
function acknowledgeLookupRole(lookup: cr.AwsCustomResource): void {
  const role = lookup.grantPrincipal;
  if (Construct.isConstruct(role)) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's AwsCustomResource function logs with the basic execution role; it only looks up the latest approved model at deploy time",
    });
  }
}

/** Options for models registered as model packages. */
export interface ModelPackageOptions {
  /**
   * The serving image the packages reference, so the endpoint's role may pull it.
   * @default - nothing granted: the image is AWS-owned or already readable
   */
  readonly image?: ContainerImage;
  /**
   * The package comes from AWS Marketplace, for which SageMaker deploys all at once whatever the strategy.
   * @default false
   */
  readonly marketplace?: boolean;
}

/** Options for a model built from an image and an artifact in the registry. */
export interface ArtifactModelOptions {
  /** The model's registry name. */
  readonly model: string;
  /** The version: its artifact is `models/<model>/<version>/output/model.tar.gz`. */
  readonly version: string;
  /** The serving image; the endpoint's role is granted pull. */
  readonly image: ContainerImage;
  /**
   * Environment variables of the serving container.
   * @default - none
   */
  readonly environment?: Record<string, string>;
}

/** Where a bound model's containers sit on the network: the endpoint's settings, the same for each of its models. */
export interface ModelBindOptions {
  /**
   * The VPC placement of the model's containers.
   * @default - no VPC
   */
  readonly vpcConfig?: sagemaker.CfnModel.VpcConfigProperty;
  /**
   * Cut the model's containers off the network.
   * @default false
   */
  readonly networkIsolation?: boolean;
}

/**
 * The network properties of a model. Isolation is only written when on, so models of
 * endpoints that do not use it keep their templates (a changed model is a replaced model).
 */
function networkOf(options: ModelBindOptions): Pick<sagemaker.CfnModelProps, 'vpcConfig' | 'enableNetworkIsolation'> {
  return { vpcConfig: options.vpcConfig, enableNetworkIsolation: options.networkIsolation || undefined };
}

/** A model bound to an endpoint: the SageMaker model and what the strategy must know of it. */
export interface BoundModel {
  /** The `AWS::SageMaker::Model`. */
  readonly model: sagemaker.CfnModel;
  /** Whether SageMaker ignores deployment guardrails for it (Marketplace). */
  readonly fromMarketplace: boolean;
  /** Which version it serves: the model package ARN, or `<model>/<version>` of an artifact. */
  readonly version: string;
}

/**
 * What a variant serves: a registered model package (by ARN, or the latest approved one,
 * resolved at each deploy) or an image with an artifact from the registry. Binding grants
 * the endpoint's role what it needs to read the artifact and decrypt it.
 */
export abstract class EndpointModel {
  /** A registered model package version. */
  public static fromModelPackage(registry: IModelRegistry, modelPackageArn: string, options: ModelPackageOptions = {}): EndpointModel {
    return new PackageModel(registry, () => modelPackageArn, options);
  }

  /** A version of the registry's model package group, by number. */
  public static fromModelPackageVersion(registry: IModelRegistry, version: number, options: ModelPackageOptions = {}): EndpointModel {
    return new PackageModel(registry, () => registry.modelPackageGroup.modelPackageArn(version), options);
  }

  /**
   * The latest approved version in the registry's model package group, looked up at each
   * deploy: approving a new version and running `cdk deploy` rolls it out through the
   * endpoint's strategy. The deploy fails if no version is approved yet.
   */
  public static latestApproved(registry: IModelRegistry, options: ModelPackageOptions = {}): EndpointModel {
    return new PackageModel(registry, (scope, id) => {
      const lookup = new cr.AwsCustomResource(scope, `${id}LatestApproved`, {
        onUpdate: {
          service: 'SageMaker',
          action: 'listModelPackages',
          parameters: {
            ModelPackageGroupName: registry.modelPackageGroup.modelPackageGroupName,
            ModelApprovalStatus: 'Approved',
            SortBy: 'CreationTime',
            SortOrder: 'Descending',
            MaxResults: 1,
            // Changes at every synthesis so each deploy looks again; pin it with the context key.
            DeployId: scope.node.tryGetContext(DEPLOY_ID_CONTEXT_KEY) ?? new Date().toISOString(),
          },
          outputPaths: ['ModelPackageSummaryList.0.ModelPackageArn'],
          physicalResourceId: cr.PhysicalResourceId.fromResponse('ModelPackageSummaryList.0.ModelPackageArn'),
        },
        // ListModelPackages has no resource-level permissions.
        policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
        installLatestAwsSdk: false,
      });
      acknowledgeLookupRole(lookup);
      return lookup.getResponseField('ModelPackageSummaryList.0.ModelPackageArn');
    }, options);
  }

  /** An image serving an artifact from the registry. */
  public static fromArtifact(registry: IModelRegistry, options: ArtifactModelOptions): EndpointModel {
    return new ArtifactModel(registry, options);
  }

  protected constructor(
    /** The registry the model's artifacts live in. */
    public readonly registry: IModelRegistry,
  ) {}

  /** Creates the SageMaker model under `scope`, run by `role` and placed on the network as `options` say, and grants the role what it needs. */
  public abstract bind(scope: Construct, id: string, role: iam.IRole, options?: ModelBindOptions): BoundModel;
}

class PackageModel extends EndpointModel {
  constructor(
    registry: IModelRegistry,
    private readonly packageArn: (scope: Construct, id: string) => string,
    private readonly options: ModelPackageOptions,
  ) {
    super(registry);
  }

  public bind(scope: Construct, id: string, role: iam.IRole, options: ModelBindOptions = {}): BoundModel {
    this.registry.grantRead(role);
    this.options.image?.grantPull(role);
    const version = this.packageArn(scope, id);
    const model = new sagemaker.CfnModel(scope, id, {
      executionRoleArn: role.roleArn,
      primaryContainer: { modelPackageName: version },
      ...networkOf(options),
    });
    model.node.addDependency(role);
    return { model, fromMarketplace: this.options.marketplace ?? false, version };
  }
}

class ArtifactModel extends EndpointModel {
  constructor(registry: IModelRegistry, private readonly options: ArtifactModelOptions) {
    super(registry);
  }

  public bind(scope: Construct, id: string, role: iam.IRole, options: ModelBindOptions = {}): BoundModel {
    const location = this.registry.artifactLocation(this.options.model, this.options.version);
    this.registry.grantRead(role, location.key);
    this.options.image.grantPull(role);
    const model = new sagemaker.CfnModel(scope, id, {
      executionRoleArn: role.roleArn,
      primaryContainer: {
        image: this.options.image.imageUri,
        modelDataUrl: location.s3Uri,
        environment: this.options.environment,
      },
      ...networkOf(options),
    });
    model.node.addDependency(role);
    return { model, fromMarketplace: false, version: `${this.options.model}/${this.options.version}` };
  }
}
