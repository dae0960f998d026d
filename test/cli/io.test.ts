import { DescribeEndpointCommand, ListTagsCommand, UpdateEndpointWeightsAndCapacitiesCommand } from '@aws-sdk/client-sagemaker';
import { GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { shift } from '../../lib/cli/commands/shift';
import { Io, processIo } from '../../lib/cli/io';
import { mockedAws } from './fakes';
import 'aws-sdk-client-mock-jest';

/** `processIo()` as it would be built with standard output on a terminal or not, and NO_COLOR as given. */
function processIoWith(tty: boolean, noColor: string | undefined): Io {
  const saved = { tty: Object.getOwnPropertyDescriptor(process.stdout, 'isTTY'), noColor: process.env.NO_COLOR };
  Object.defineProperty(process.stdout, 'isTTY', { value: tty, configurable: true });
  if (noColor === undefined) {
    delete process.env.NO_COLOR;
  } else {
    process.env.NO_COLOR = noColor;
  }
  try {
    return processIo();
  } finally {
    if (saved.tty) {
      Object.defineProperty(process.stdout, 'isTTY', saved.tty);
    } else {
      delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
    if (saved.noColor === undefined) {
      delete process.env.NO_COLOR;
    } else {
      process.env.NO_COLOR = saved.noColor;
    }
  }
}

describe('the process io', () => {
  test.each([
    [true, undefined, { interactive: true, colour: true }],
    [true, '', { interactive: true, colour: true }],
    [true, '1', { interactive: true, colour: false }],
    [false, undefined, { interactive: false, colour: false }],
    [false, '1', { interactive: false, colour: false }],
  ])('on a terminal %p with NO_COLOR %p: %p (NO_COLOR changes colours only)', (tty, noColor, expected) => {
    const io = processIoWith(tty, noColor);
    expect({ interactive: io.interactive, colour: io.colour }).toEqual(expected);
  });

  test('with NO_COLOR on a terminal, a change to a production endpoint still asks for confirmation', async () => {
    const mocks = mockedAws();
    mocks.sagemaker.on(DescribeEndpointCommand).resolves({
      EndpointName: 'churn-ab', EndpointArn: 'arn:aws:sagemaker:eu-west-1:111111111111:endpoint/churn-ab', EndpointStatus: 'InService',
      ProductionVariants: [{ VariantName: 'baseline', CurrentWeight: 90 }, { VariantName: 'candidate', CurrentWeight: 10 }],
    });
    mocks.sagemaker.on(ListTagsCommand).resolves({ Tags: [{ Key: 'modelship:production', Value: 'true' }] });
    mocks.sagemaker.on(UpdateEndpointWeightsAndCapacitiesCommand).resolves({});
    mocks.dynamodb.on(GetItemCommand).resolves({});
    mocks.dynamodb.on(TransactWriteItemsCommand).resolves({});
    mocks.sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:iam::111111111111:user/ana' });
    const questions: string[] = [];
    const lines: string[] = [];
    // The real io's flags; its streams and prompt replaced so nothing reaches the test's terminal.
    const io: Io = {
      ...processIoWith(true, '1'),
      out: (line) => lines.push(line),
      err: (line) => lines.push(line),
      confirm: async (question) => {
        questions.push(question);
        return true;
      },
      progress: () => undefined,
      sleep: async () => undefined,
    };
    await expect(shift({ endpoint: 'churn-ab', to: 'candidate', weight: '20', reason: 'canary looks healthy' }, io, mocks.aws)).resolves.toBe(0);
    expect(questions).toEqual(["Apply this change to production endpoint 'churn-ab'?"]);
    expect(lines.at(-1)).toMatch(/^done: churn-ab is InService/);
    expect(mocks.sagemaker).toHaveReceivedCommandWith(UpdateEndpointWeightsAndCapacitiesCommand, {
      DesiredWeightsAndCapacities: [{ VariantName: 'baseline', DesiredWeight: 80 }, { VariantName: 'candidate', DesiredWeight: 20 }],
    });
  });
});
