import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { formatValue } from '../runtime/errors';
import { acknowledgeExpectedWildcards } from './acknowledge-wildcards';

/** Where SageMaker attaches a training job or a hosted model: the props both constructs share. */
export interface NetworkProps {
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** SageMaker's `VpcConfig` limits (CreateTrainingJob and CreateModel). */
const MAX_SECURITY_GROUPS = 5;
const MAX_SUBNETS = 16;

/**
 * What SageMaker does with the role to attach a job's or a model's network interfaces to the
 * VPC (SageMaker's documented list). AWS documents them on every resource: the interfaces do not
 * exist before SageMaker creates them, and the Describe actions have no resource-level permissions.
 */
export const VPC_ACCESS_ACTIONS = [
  'ec2:CreateNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface',
  'ec2:DeleteNetworkInterfacePermission', 'ec2:DescribeDhcpOptions', 'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs',
] as const;

/** A SageMaker `VpcConfig`: the security groups and subnets of the network interfaces. */
export interface VpcPlacement {
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly subnetIds: string[];
}

/**
 * The problems of a network placement, each naming the property: security groups and subnets
 * need a VPC; at most 5 security groups; 1 to 16 subnets, none of them public (SageMaker gives
 * its interfaces no public address, so a public subnet only exposes them without giving them
 * the internet).
 */
export function networkProblems(props: NetworkProps): string[] {
  const problems: string[] = [];
  if (!props.vpc) {
    if (props.securityGroups) {
      problems.push("'securityGroups' needs 'vpc': security groups apply to network interfaces in a VPC");
    }
    if (props.vpcSubnets) {
      problems.push("'vpcSubnets' needs 'vpc': it selects subnets of the VPC");
    }
    return problems;
  }
  const groups = props.securityGroups;
  if (groups && (groups.length < 1 || groups.length > MAX_SECURITY_GROUPS)) {
    problems.push(`'securityGroups' must have between 1 and ${MAX_SECURITY_GROUPS} security groups, got ${groups.length}`);
  }
  let selected: ec2.SelectedSubnets;
  try {
    // Without a selection, CDK picks the private subnets with egress, else the isolated ones, else the public ones.
    selected = props.vpc.selectSubnets(props.vpcSubnets);
  } catch (e) {
    problems.push(`'vpcSubnets' must select subnets of the VPC, got a selection it cannot make: ${(e as Error).message}`);
    return problems;
  }
  const publicIds = new Set(props.vpc.publicSubnets.map((s) => s.subnetId));
  const exposed = selected.subnets.filter((s) => publicIds.has(s.subnetId));
  if (exposed.length > 0) {
    problems.push(`'vpcSubnets' must select private subnets (PRIVATE_ISOLATED or PRIVATE_WITH_EGRESS): SageMaker gives its network interfaces no public address, got ${exposed.length} public subnet${exposed.length === 1 ? '' : 's'}${props.vpcSubnets ? '' : ' (the VPC has no private subnets to default to)'}`);
  }
  if (selected.subnetIds.length < 1 || selected.subnetIds.length > MAX_SUBNETS) {
    problems.push(`'vpcSubnets' must select between 1 and ${MAX_SUBNETS} subnets, got ${formatValue(selected.subnetIds.length)}`);
  }
  return problems;
}

/**
 * Places SageMaker's network interfaces in the VPC: the subnets `vpcSubnets` selects (by
 * default the private ones), the given security groups or a new one
 * (`SecurityGroup`, all outbound allowed; open to itself when `selfIngress`, for distributed
 * training), the selected subnets, and a policy (`VpcAccess`, under the role) on the role with the
 * network-interface actions SageMaker needs, its `Resource::*` finding acknowledged naming them.
 * Call it only after `networkProblems` found none.
 */
export function placeInVpc(scope: Construct, vpc: ec2.IVpc, props: NetworkProps, role: iam.Role,
  options: { readonly description: string; readonly selfIngress: boolean }): VpcPlacement {
  const securityGroups = props.securityGroups ?? [(() => {
    const group = new ec2.SecurityGroup(scope, 'SecurityGroup', { vpc, description: options.description, allowAllOutbound: true });
    if (options.selfIngress) {
      group.addIngressRule(group, ec2.Port.allTraffic(), "Distributed training between the job's instances");
    }
    return group;
  })()];
  // Under the role, so whatever depends on the role (the endpoint's models) waits for it too.
  const policy = new iam.Policy(role, 'VpcAccess', {
    statements: [new iam.PolicyStatement({ actions: [...VPC_ACCESS_ACTIONS], resources: ['*'] })],
  });
  role.attachInlinePolicy(policy);
  acknowledgeExpectedWildcards(policy, [{
    finding: /^Resource::\*$/,
    reason: `${VPC_ACCESS_ACTIONS.join(', ')}: SageMaker creates and removes the network interfaces of this role's jobs or models in the VPC; the interfaces do not exist before, and the Describe actions have no resource-level permissions`,
  }]);
  return { securityGroups, subnetIds: vpc.selectSubnets(props.vpcSubnets).subnetIds };
}
