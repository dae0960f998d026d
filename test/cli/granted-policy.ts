import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { AwsCall, CallEnvironment } from './aws-actions';

/**
 * A role's identity policy as a synthesized template renders it, evaluated as IAM would at deploy
 * time in a `CallEnvironment`: what the grants tests (`grants.test.ts`, `train-grants.test.ts`)
 * check the commands' calls (`awsCalls` in ./aws-actions.ts) against.
 */

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** The parts of a synthesized template the checks read. */
export interface TemplateJson {
  readonly Resources: Readonly<Record<string, { readonly Type: string; readonly Properties: Readonly<Record<string, unknown>> }>>;
}

type Properties = Readonly<Record<string, unknown>>;

/** A property that names the resource; a resource without a literal one cannot be evaluated here. */
function nameOf(properties: Properties, property: string, resourceId: string): string {
  const value = properties[property];
  if (typeof value !== 'string') {
    throw new Error(`the test cannot evaluate ${resourceId}: its '${property}' is not a literal, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * What `Ref` and `Fn::GetAtt` give at deploy time, by resource type and attribute (`Ref` for the
 * `Ref`), for the resources grants name: each from the resource's literal name.
 */
type Attribute = (properties: Properties, at: CallEnvironment, id: string) => string;

const stateMachineArn: Attribute = (p, at, id) => `arn:${at.partition}:states:${at.region}:${at.account}:stateMachine:${nameOf(p, 'StateMachineName', id)}`;

const ATTRIBUTES: Readonly<Record<string, Readonly<Record<string, Attribute>>>> = {
  'AWS::DynamoDB::Table': {
    Arn: (p, at, id) => `arn:${at.partition}:dynamodb:${at.region}:${at.account}:table/${nameOf(p, 'TableName', id)}`,
  },
  'AWS::StepFunctions::StateMachine': {
    Ref: stateMachineArn,
    Arn: stateMachineArn,
    Name: (p, _at, id) => nameOf(p, 'StateMachineName', id),
  },
};

/** A resolved CloudFormation value of a policy, as the string it is at deploy time in `at`. */
function evaluate(value: unknown, template: TemplateJson, at: CallEnvironment): string {
  if (typeof value === 'string') {
    return value;
  }
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) {
    const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => evaluate(p, template, at)).join(delimiter);
  }
  const pseudo: Record<string, string> = { 'AWS::Partition': at.partition, 'AWS::Region': at.region, 'AWS::AccountId': at.account };
  if (typeof node.Ref === 'string' && node.Ref in pseudo) {
    return pseudo[node.Ref];
  }
  const [id, attribute] = typeof node.Ref === 'string' ? [node.Ref, 'Ref'] : (node['Fn::GetAtt'] as [string, string] | undefined) ?? [];
  const resource = id === undefined ? undefined : template.Resources[id];
  const attributeOf = resource && ATTRIBUTES[resource.Type]?.[attribute!];
  if (attributeOf) {
    return attributeOf(resource.Properties, at, id!);
  }
  throw new Error(`the test cannot evaluate ${JSON.stringify(value)}`);
}

/** An IAM pattern (`*` any characters, `?` one) as a RegExp. */
function iamPattern(pattern: string, flags = ''): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, flags);
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** A role's identity policy as the template renders it: what it allows. */
export class GrantedPolicy {
  constructor(private readonly statements: readonly Statement[], private readonly template: TemplateJson, private readonly at: CallEnvironment) {}

  /** Every action it names, sorted. */
  public actions(): string[] {
    return [...new Set(this.statements.flatMap((s) => asArray(s.Action)))].sort();
  }

  /** Whether a statement allows the action on the resource (IAM's wildcards; actions ignore case). */
  public allows(action: string, resource: string): boolean {
    return this.statements.some((s) => s.Effect === 'Allow' && s.Condition === undefined
      && asArray(s.Action).some((a) => iamPattern(a, 'i').test(action))
      && asArray(s.Resource).some((r) => iamPattern(evaluate(r, this.template, this.at)).test(resource)));
  }

  /** The calls it does not allow, as `action on resource`. */
  public denied(calls: readonly AwsCall[]): string[] {
    return calls.flatMap((c) => c.resources.filter((r) => !this.allows(c.action, r)).map((r) => `${c.action} on ${r}`));
  }
}

/** The one policy attached to a role in its stack's template, evaluated in `at`. */
export function policyOf(role: iam.Role, template: TemplateJson, at: CallEnvironment): GrantedPolicy {
  const roleId = Stack.of(role).getLogicalId(role.node.defaultChild as iam.CfnRole);
  const policies = Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]));
  expect(policies).toHaveLength(1);
  return new GrantedPolicy((policies[0].Properties.PolicyDocument as { Statement: Statement[] }).Statement, template, at);
}
