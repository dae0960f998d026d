import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';

/**
 * Statements with wildcards that a construct grants by design: the exact actions, the resources
 * they are on, and why. A wildcard finding is acknowledged only where every action on that
 * resource (for a `Resource::` finding) or every resource of that action (for an `Action::`
 * finding) is listed here; any other action on the same wildcard stays a finding.
 */
export interface ExpectedWildcard {
  /** The actions, exactly as the policy names them (`kms:GenerateDataKey*`, `sagemaker:DescribeModel`). */
  readonly actions: readonly string[];
  /**
   * The resources those actions may be on: a value as given to the policy (tokens allowed; it is
   * resolved in the policy's stack, so a cross-stack reference matches its import), or a pattern
   * matched against the resource as cdk-nag renders it (`<Bucket1234ABCD.Arn>/models/*`).
   */
  readonly resources: readonly (string | RegExp)[];
  /** Why the wildcard is as narrow as AWS allows. */
  readonly reason: string;
}

/** The actions of CDK's `grantEncryptDecrypt` on a key (its `grantEncrypt` and `grantDecrypt` give subsets). */
export const KEY_ENCRYPT_DECRYPT_ACTIONS: readonly string[] = ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'];

/** The actions of CDK's `grantRead` on a bucket. */
export const BUCKET_READ_ACTIONS: readonly string[] = ['s3:GetObject*', 's3:GetBucket*', 's3:List*'];

/** The actions of CDK's `grantPut` on a bucket. */
export const BUCKET_PUT_ACTIONS: readonly string[] = [
  's3:PutObject', 's3:PutObjectLegalHold', 's3:PutObjectRetention', 's3:PutObjectTagging', 's3:PutObjectVersionTagging', 's3:Abort*',
];

/** What CDK grants a state machine for delivering its logs: none of these actions has resource-level permissions. */
export const LOG_DELIVERY_ACTIONS: readonly string[] = [
  'logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups',
];

/** What CDK grants a traced state machine or function: X-Ray has no resource-level permissions. */
export const XRAY_ACTIONS: readonly string[] = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'];

/** Renders a resolved CloudFormation value the way cdk-nag names it in a finding id. */
function flatten(node: unknown): string {
  if (node === undefined) {
    return '';
  }
  if (typeof node === 'string') {
    return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  }
  const value = node as Record<string, unknown>;
  if (value['Fn::Join']) {
    const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (value['Fn::Sub']) {
    return flatten(value['Fn::Sub']);
  }
  if (value['Fn::GetAtt']) {
    const [resource, attribute] = value['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (value['Fn::ImportValue']) {
    return flatten(value['Fn::ImportValue']);
  }
  if (value.Ref) {
    return `<${flatten(value.Ref)}>`;
  }
  return JSON.stringify(node);
}

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

interface Statement {
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
}

/** An expectation with its resources rendered as cdk-nag renders them in one stack. */
interface RenderedExpectation {
  readonly actions: ReadonlySet<string>;
  readonly resources: readonly (string | RegExp)[];
  readonly reason: string;
}

/** What one policy's statements say about each of its wildcard findings. */
class FindingLedger {
  private readonly reasons = new Map<string, Set<string> | undefined>();

  /** Records one statement's verdict on a finding: the reasons that cover it, or undefined when something is not covered. */
  record(finding: string, reasons: Set<string> | undefined): void {
    if (!this.reasons.has(finding)) {
      this.reasons.set(finding, reasons);
      return;
    }
    const known = this.reasons.get(finding);
    this.reasons.set(finding, known && reasons ? new Set([...known, ...reasons]) : undefined);
  }

  /** The findings every statement of which was covered, with their reasons. */
  acknowledged(): [string, string][] {
    return [...this.reasons].flatMap(([finding, reasons]) => (reasons ? [[finding, [...reasons].join('; ')] as [string, string]] : []));
  }
}

/**
 * The reasons that cover every (action, resource) pair given, or undefined when one pair is
 * covered by no expectation.
 */
function coverage(pairs: [string, string][], expected: readonly RenderedExpectation[]): Set<string> | undefined {
  const reasons = new Set<string>();
  for (const [action, resource] of pairs) {
    const match = expected.find((e) => e.actions.has(action)
      && e.resources.some((r) => (typeof r === 'string' ? r === resource : r.test(resource))));
    if (!match) {
      return undefined;
    }
    reasons.add(match.reason);
  }
  return reasons;
}

/** The AwsSolutions-IAM5 findings of a policy document that the expectations cover, with their reasons. */
function acknowledgedFindings(statements: readonly Statement[], expected: readonly RenderedExpectation[]): [string, string][] {
  const ledger = new FindingLedger();
  for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
    const actions = asArray(statement.Action);
    const resources = asArray(statement.Resource).map(flatten);
    for (const action of actions.filter((a) => a.includes('*'))) {
      ledger.record(`Action::${action}`, coverage(resources.map((r) => [action, r]), expected));
    }
    for (const resource of resources.filter((r) => r.includes('*'))) {
      ledger.record(`Resource::${resource}`, coverage(actions.map((a) => [a, resource]), expected));
    }
  }
  return ledger.acknowledged();
}

/** The expectations registered on each scope; a policy is judged by those of every scope above it. */
const registered = new WeakMap<IConstruct, ExpectedWildcard[]>();

/**
 * Acknowledges, on every IAM policy below `scope`, the cdk-nag AwsSolutions-IAM5 findings whose
 * statements the expectations cover, each with its reason. cdk-nag names a finding by the
 * wildcard alone (`Resource::*`) and reports it once per policy: here it is acknowledged only
 * when every statement of that policy with the wildcard holds listed actions on listed
 * resources, so a statement of anyone else's with the same wildcard (`sagemaker:DeleteEndpoint`
 * on `*`) keeps the finding. A policy is judged by the expectations of every scope above it
 * together (a construct's own and a grant's on its grantee). It runs at synthesis, after
 * cross-stack references are resolved, so the ids match what cdk-nag reports.
 */
export function acknowledgeExpectedWildcards(scope: IConstruct, expected: readonly ExpectedWildcard[]): void {
  const known = registered.get(scope);
  if (known) {
    known.push(...expected);
    return;
  }
  registered.set(scope, [...expected]);
  scope.node.addValidation({
    validate: () => {
      const policies = scope.node.findAll().filter((c): c is iam.CfnPolicy => c instanceof iam.CfnPolicy);
      for (const policy of policies) {
        const stack = Stack.of(policy);
        const rendered = policy.node.scopes.flatMap((s) => registered.get(s) ?? []).map((e) => ({
          actions: new Set(e.actions),
          resources: e.resources.map((r) => (typeof r === 'string' ? flatten(stack.resolve(r)) : r)),
          reason: e.reason,
        }));
        const document = stack.resolve(policy.policyDocument) as { Statement?: Statement[] };
        for (const [finding, reason] of acknowledgedFindings(document.Statement ?? [], rendered)) {
          Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
        }
      }
      return [];
    },
  });
}

/**
 * Acknowledges a grant's wildcards on the grantee's policies: cdk-nag reports them on the
 * grantee, outside the granting construct's scope. A grantee that is not a construct (an
 * account principal) has no policy of its own to acknowledge on.
 */
export function acknowledgeOnGrantee(grantee: iam.IGrantable, expected: readonly ExpectedWildcard[]): void {
  const principal = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) {
    acknowledgeExpectedWildcards(principal, expected);
  }
}
