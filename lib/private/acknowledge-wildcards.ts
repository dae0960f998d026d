import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** A kind of wildcard that a construct grants by design, and why. */
export interface ExpectedWildcard {
  /** Matches the finding, e.g. `Action::s3:GetObject*` or `Resource::<Bucket.Arn>/models/churn/*`. */
  readonly finding: RegExp;
  /** Why the wildcard is as narrow as AWS allows. */
  readonly reason: string;
}

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

/** The AwsSolutions-IAM5 finding ids of a policy document, named as cdk-nag names them. */
function wildcardFindings(document: { Statement?: { Effect: string; Action?: string | string[]; Resource?: unknown }[] }): string[] {
  const findings = new Set<string>();
  for (const statement of document.Statement ?? []) {
    if (statement.Effect !== 'Allow') {
      continue;
    }
    asArray(statement.Action).filter((a) => a.includes('*')).forEach((a) => findings.add(`Action::${a}`));
    asArray(statement.Resource).map(flatten).filter((r) => r.includes('*')).forEach((r) => findings.add(`Resource::${r}`));
  }
  return [...findings];
}

/**
 * Acknowledges, on every IAM policy below `scope`, the cdk-nag AwsSolutions-IAM5 findings
 * that match an expected wildcard, each with its reason. It runs at synthesis, after
 * cross-stack references are resolved, so the ids match what cdk-nag reports. A wildcard
 * that matches no expectation stays a finding.
 */
export function acknowledgeExpectedWildcards(scope: IConstruct, expected: readonly ExpectedWildcard[]): void {
  scope.node.addValidation({
    validate: () => {
      const policies = scope.node.findAll().filter((c): c is iam.CfnPolicy => c instanceof iam.CfnPolicy);
      for (const policy of policies) {
        const document = Stack.of(policy).resolve(policy.policyDocument);
        for (const finding of wildcardFindings(document)) {
          const match = expected.find((e) => e.finding.test(finding));
          if (match) {
            Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: match.reason });
          }
        }
      }
      return [];
    },
  });
}

/** Escapes text for use inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
