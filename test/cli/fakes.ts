import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type { AwsClients } from '../../lib/cli/aws';
import type { Io } from '../../lib/cli/io';

/** The fake clock's start: 2026-11-22 12:00:00 UTC. */
export const NOW = Date.parse('2026-11-22T12:00:00Z');

/** An Io that records everything and never waits. */
export interface FakeIo extends Io {
  /** Lines written to standard output. */
  readonly lines: string[];
  /** Lines written to standard error. */
  readonly errors: string[];
  /** Questions asked through `confirm`. */
  readonly questions: string[];
  /** Texts shown through `progress`. */
  readonly progressed: string[];
  /** Each `sleep`'s milliseconds; each also moves the clock on. */
  readonly sleeps: number[];
  /** Standard output as one string. */
  readonly output: () => string;
}

/** Options of `fakeIo`. */
export interface FakeIoOptions {
  /** Answers to `confirm`, in order; false once they run out. @default - every answer is no */
  readonly answers?: boolean[];
  /** Whether a person is at a terminal (prompts, spinners). @default false */
  readonly interactive?: boolean;
  /** Whether output is coloured. @default false */
  readonly colour?: boolean;
  /** The clock's start (epoch ms). @default NOW */
  readonly now?: number;
}

/** A fake Io for commands under test: output collected, answers scripted, time in the test's hands. */
export function fakeIo(options: FakeIoOptions = {}): FakeIo {
  const lines: string[] = [];
  const errors: string[] = [];
  const questions: string[] = [];
  const progressed: string[] = [];
  const sleeps: number[] = [];
  const answers = [...(options.answers ?? [])];
  let clock = options.now ?? NOW;
  return {
    lines,
    errors,
    questions,
    progressed,
    sleeps,
    output: () => lines.join('\n'),
    out: (line) => {
      lines.push(line);
    },
    err: (line) => {
      errors.push(line);
    },
    interactive: options.interactive ?? false,
    colour: options.colour ?? false,
    confirm: async (question) => {
      questions.push(question);
      return answers.shift() ?? false;
    },
    progress: (text) => {
      progressed.push(text);
    },
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
  };
}

/** Real SDK clients (so commands build real commands) whose `send` is mocked, and their mocks. */
export interface MockedAws {
  readonly aws: AwsClients;
  readonly sagemaker: AwsClientStub<SageMakerClient>;
  readonly dynamodb: AwsClientStub<DynamoDBClient>;
  readonly cloudwatch: AwsClientStub<CloudWatchClient>;
  readonly sts: AwsClientStub<STSClient>;
  readonly sfn: AwsClientStub<SFNClient>;
}

/**
 * Fresh clients, each mocked on its own instance (so tests do not share mocks): a command they
 * are not told about resolves to undefined; nothing reaches AWS.
 */
export function mockedAws(): MockedAws {
  const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } };
  const aws: AwsClients = {
    sagemaker: new SageMakerClient(config),
    dynamodb: new DynamoDBClient(config),
    cloudwatch: new CloudWatchClient(config),
    sts: new STSClient(config),
    sfn: new SFNClient(config),
  };
  return {
    aws,
    sagemaker: mockClient(aws.sagemaker),
    dynamodb: mockClient(aws.dynamodb),
    cloudwatch: mockClient(aws.cloudwatch),
    sts: mockClient(aws.sts),
    sfn: mockClient(aws.sfn),
  };
}

/** An error as the SDK throws it for a service error of that name. */
export function serviceError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}
