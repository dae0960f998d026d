import { ArnFormat, IResource, Lazy, Names, Resource, Stack, Token, Tokenization } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { acknowledgeOnGrantee } from '../private/acknowledge-wildcards';
import { formatValue, ModelshipError, throwIfProblems } from '../runtime/errors';

const GROUP_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const ACCOUNT_ID = /^\d{12}$/;

/** SageMaker writes resource names in lowercase inside ARNs. */
function arnName(name: string): string {
  return Token.isUnresolved(name) ? name : name.toLowerCase();
}

/** Actions that read a model package group and its versions. */
const READ_ACTIONS = ['sagemaker:DescribeModelPackageGroup', 'sagemaker:DescribeModelPackage'];

/** A SageMaker model package group: the versioned catalogue of one model family. */
export interface IModelPackageGroup extends IResource {
  /** The group's name. @attribute */
  readonly modelPackageGroupName: string;
  /** The group's ARN. @attribute */
  readonly modelPackageGroupArn: string;
  /** ARN pattern that matches every model package (version) in the group. */
  readonly modelPackageArns: string;

  /** The ARN of one version of the group. */
  modelPackageArn(version: number): string;

  /** Lets the grantee describe the group and its model packages. */
  grantRead(grantee: iam.IGrantable): iam.Grant;

  /** Lets the grantee register new model package versions in the group. */
  grantRegister(grantee: iam.IGrantable): iam.Grant;
}

/** Grants shared by created and imported model package groups. */
export abstract class ModelPackageGroupBase extends Resource implements IModelPackageGroup {
  public abstract readonly modelPackageGroupName: string;
  public abstract readonly modelPackageGroupArn: string;

  public get modelPackageArns(): string {
    return this.versionArn('*');
  }

  public modelPackageArn(version: number): string {
    if (Token.isUnresolved(version)) {
      return this.versionArn(Tokenization.stringifyNumber(version));
    }
    if (!Number.isInteger(version) || version < 1) {
      throw new ModelshipError('Invalid model package version', [`'version' must be a whole number of at least 1, got ${formatValue(version)}`]);
    }
    return this.versionArn(String(version));
  }

  private versionArn(version: string): string {
    return Stack.of(this).formatArn({
      service: 'sagemaker',
      resource: 'model-package',
      resourceName: `${arnName(this.modelPackageGroupName)}/${version}`,
      account: this.env.account,
      region: this.env.region,
    });
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnPackages(grantee, READ_ACTIONS);
  }

  public grantRegister(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnPackages(grantee, ['sagemaker:CreateModelPackage', ...READ_ACTIONS]);
  }

  /** Actions on the group and its versions, the versions' wildcard acknowledged on the grantee for these actions only. */
  private grantOnPackages(grantee: iam.IGrantable, actions: string[]): iam.Grant {
    const resourceArns = [this.modelPackageGroupArn, this.modelPackageArns];
    acknowledgeOnGrantee(grantee, [{
      actions,
      resources: resourceArns,
      reason: 'SageMaker numbers model package versions at registration; the wildcard covers the versions of one group',
    }]);
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns });
  }
}

/** Properties of a {@link ModelPackageGroup}. */
export interface ModelPackageGroupProps {
  /**
   * The group's name: 1-63 letters, digits and hyphens, starting and ending with a letter or digit.
   * Name it to use the group from a stack of another account or region.
   * @default - a unique name derived from the construct path, fixed at synthesis
   */
  readonly modelPackageGroupName?: string;

  /**
   * What the group holds, shown in SageMaker Studio.
   * @default - no description
   */
  readonly description?: string;

  /**
   * Accounts allowed to read the group's model packages and create models from them, for
   * staging and production accounts that deploy from a shared registry.
   * @default - only this account
   */
  readonly readerAccounts?: string[];
}

/**
 * A SageMaker model package group (`AWS::SageMaker::ModelPackageGroup`) with an optional
 * resource policy for cross-account readers.
 */
export class ModelPackageGroup extends ModelPackageGroupBase {
  /** Imports a group of this account and region by name. */
  public static fromModelPackageGroupName(scope: Construct, id: string, modelPackageGroupName: string): IModelPackageGroup {
    const arn = Stack.of(scope).formatArn({
      service: 'sagemaker',
      resource: 'model-package-group',
      resourceName: arnName(modelPackageGroupName),
    });
    return ModelPackageGroup.import(scope, id, modelPackageGroupName, arn);
  }

  /** Imports a group, possibly of another account, by ARN. */
  public static fromModelPackageGroupArn(scope: Construct, id: string, modelPackageGroupArn: string): IModelPackageGroup {
    const name = Stack.of(scope).splitArn(modelPackageGroupArn, ArnFormat.SLASH_RESOURCE_NAME).resourceName!;
    return ModelPackageGroup.import(scope, id, name, modelPackageGroupArn);
  }

  private static import(scope: Construct, id: string, name: string, arn: string): IModelPackageGroup {
    class Import extends ModelPackageGroupBase {
      public readonly modelPackageGroupArn = arn;
      public readonly modelPackageGroupName = name;
    }
    return new Import(scope, id, { environmentFromArn: arn });
  }

  public readonly modelPackageGroupName: string;
  public readonly modelPackageGroupArn: string;
  /** The underlying CloudFormation resource. */
  public readonly resource: sagemaker.CfnModelPackageGroup;

  constructor(scope: Construct, id: string, props: ModelPackageGroupProps = {}) {
    // CloudFormation requires the name, so the default is a literal generated from the construct
    // path, produced once the construct exists. Name the group to reference it from another
    // environment: CDK then formats its ARN there.
    super(scope, id, { physicalName: props.modelPackageGroupName ?? Lazy.string({ produce: () => this.modelPackageGroupName }) });
    const name = props.modelPackageGroupName
      ?? Names.uniqueResourceName(this, { maxLength: 63, separator: '-' }).toLowerCase();
    const readerAccounts = props.readerAccounts ?? [];
    throwIfProblems(`Invalid ModelPackageGroup '${this.node.path}'`, [
      ...(Token.isUnresolved(name) || GROUP_NAME.test(name) ? [] : [
        `'modelPackageGroupName' must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit, got ${formatValue(name)}`,
      ]),
      ...readerAccounts.filter((a) => !Token.isUnresolved(a) && !ACCOUNT_ID.test(a)).map((a) =>
        `'readerAccounts' must hold 12-digit AWS account ids, got ${formatValue(a)}`),
    ]);

    this.modelPackageGroupName = name;
    this.resource = new sagemaker.CfnModelPackageGroup(this, 'Resource', {
      modelPackageGroupName: name,
      modelPackageGroupDescription: props.description,
      modelPackageGroupPolicy: readerAccounts.length > 0 ? this.readerPolicy(readerAccounts) : undefined,
    });
    this.modelPackageGroupArn = this.getResourceArnAttribute(this.resource.attrModelPackageGroupArn, {
      service: 'sagemaker',
      resource: 'model-package-group',
      resourceName: arnName(name),
    });
  }

  private readerPolicy(accounts: string[]): iam.PolicyDocument {
    const principals = accounts.map((a) => new iam.AccountPrincipal(a));
    const ownArn = Stack.of(this).formatArn({
      service: 'sagemaker',
      resource: 'model-package-group',
      resourceName: arnName(this.modelPackageGroupName),
    });
    return new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadGroupCrossAccount',
          principals,
          actions: ['sagemaker:DescribeModelPackageGroup'],
          resources: [ownArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadVersionsCrossAccount',
          principals,
          actions: ['sagemaker:DescribeModelPackage', 'sagemaker:ListModelPackages', 'sagemaker:CreateModel'],
          resources: [this.modelPackageArns],
        }),
      ],
    });
  }
}
