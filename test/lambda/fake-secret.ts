import {
  DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceExistsException, ResourceNotFoundException,
  SecretsManagerClientResolvedConfig, ServiceInputTypes, ServiceOutputTypes, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { AwsStub } from 'aws-sdk-client-mock';

/** One version of the fake secret. */
interface Version {
  value?: string;
  stages: Set<string>;
}

/**
 * An in-memory Secrets Manager secret behind a mocked client, with the behaviour rotation relies
 * on: versions with staging labels, `RotateSecret` creating the token's version as `AWSPENDING`
 * without a value, `PutSecretValue` idempotent per token, and moving `AWSCURRENT` labelling the
 * version it leaves `AWSPREVIOUS` (and taking `AWSPENDING` off the new current one).
 */
export class FakeSecret {
  public readonly versions = new Map<string, Version>();
  /** Decides, per call, whether it fails before taking effect, after (the answer is lost), or not at all. */
  public fault: (command: string) => 'before' | 'after' | undefined = () => undefined;
  /** How many calls failed by `fault`. */
  public faultsInjected = 0;

  constructor(public readonly secretId: string, firstValue: string) {
    this.versions.set('v-initial', { value: firstValue, stages: new Set(['AWSCURRENT']) });
  }

  /** Serves the secret's commands through the mocked client. */
  public serve(secrets: AwsStub<ServiceInputTypes, ServiceOutputTypes, SecretsManagerClientResolvedConfig>): void {
    secrets.on(DescribeSecretCommand).callsFake(() => this.faulty('DescribeSecret', () => this.describe()));
    secrets.on(GetSecretValueCommand).callsFake((input: { VersionStage?: string; VersionId?: string }) => this.faulty('GetSecretValue', () => this.get(input)));
    secrets.on(PutSecretValueCommand).callsFake((input: { ClientRequestToken: string; SecretString: string; VersionStages: string[] }) =>
      this.faulty('PutSecretValue', () => this.put(input)));
    secrets.on(UpdateSecretVersionStageCommand).callsFake((input: { VersionStage: string; MoveToVersionId: string; RemoveFromVersionId?: string }) =>
      this.faulty('UpdateSecretVersionStage', () => this.move(input)));
  }

  /** Runs a command as the service would: asynchronously, failing as `fault` decides. */
  private async faulty<T>(command: string, run: () => T): Promise<T> {
    const fault = this.fault(command);
    if (fault === 'before') {
      this.faultsInjected++;
      throw Object.assign(new Error(`${command} throttled`), { name: 'ThrottlingException' });
    }
    const result = run();
    if (fault === 'after') {
      this.faultsInjected++;
      throw Object.assign(new Error(`${command} timed out after taking effect`), { name: 'TimeoutError' });
    }
    return result;
  }

  /** What `RotateSecret` does before calling the function: a version for the token, labelled `AWSPENDING`, without a value. */
  public beginRotation(token: string): void {
    if (!this.versions.has(token)) {
      this.label('AWSPENDING', token);
    }
  }

  /** The version holding a stage. */
  public at(stage: string): { id: string; value?: string } | undefined {
    const found = [...this.versions].find(([, v]) => v.stages.has(stage));
    return found && { id: found[0], value: found[1].value };
  }

  /** The versions that hold a value, in order of creation. */
  public values(): string[] {
    return [...this.versions.values()].flatMap((v) => (v.value === undefined ? [] : [v.value]));
  }

  private describe() {
    return {
      RotationEnabled: true,
      VersionIdsToStages: Object.fromEntries([...this.versions].filter(([, v]) => v.stages.size > 0).map(([id, v]) => [id, [...v.stages]])),
    };
  }

  private get(input: { VersionStage?: string; VersionId?: string }) {
    const id = input.VersionId ?? this.at(input.VersionStage ?? 'AWSCURRENT')?.id;
    const version = id === undefined ? undefined : this.versions.get(id);
    if (!version || version.value === undefined || (input.VersionStage !== undefined && !version.stages.has(input.VersionStage))) {
      throw new ResourceNotFoundException({ message: 'Secrets Manager can\'t find the specified secret value', $metadata: {} });
    }
    return { SecretString: version.value, VersionId: id };
  }

  private put(input: { ClientRequestToken: string; SecretString: string; VersionStages: string[] }) {
    const existing = this.versions.get(input.ClientRequestToken);
    if (existing?.value !== undefined && existing.value !== input.SecretString) {
      throw new ResourceExistsException({ message: 'A version with this token holds another value', $metadata: {} });
    }
    if (!existing) {
      this.versions.set(input.ClientRequestToken, { stages: new Set() });
    }
    this.versions.get(input.ClientRequestToken)!.value = input.SecretString;
    for (const stage of input.VersionStages) {
      this.label(stage, input.ClientRequestToken);
    }
    return { VersionId: input.ClientRequestToken };
  }

  private move(input: { VersionStage: string; MoveToVersionId: string; RemoveFromVersionId?: string }) {
    const holder = this.at(input.VersionStage)?.id;
    if (holder !== undefined && holder !== input.MoveToVersionId && holder !== input.RemoveFromVersionId) {
      throw new Error(`InvalidParameterException: ${input.VersionStage} is on ${holder}, not on ${input.RemoveFromVersionId}`);
    }
    this.label(input.VersionStage, input.MoveToVersionId);
    if (input.VersionStage === 'AWSCURRENT' && holder !== undefined && holder !== input.MoveToVersionId) {
      this.label('AWSPREVIOUS', holder);
      this.versions.get(input.MoveToVersionId)!.stages.delete('AWSPENDING');
    }
    return {};
  }

  /** Puts a stage on a version, taking it off any other. */
  private label(stage: string, id: string): void {
    for (const version of this.versions.values()) {
      version.stages.delete(stage);
    }
    if (!this.versions.has(id)) {
      this.versions.set(id, { stages: new Set() });
    }
    this.versions.get(id)!.stages.add(stage);
  }
}
