import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';

/**
 * Makes each alarm notify the topic when it goes into ALARM and when it returns to OK. Every
 * alarm a modelship construct creates goes through here, so a user's `alarmTopic` hears of all.
 */
export function notifyAlarmTopic(topic: sns.ITopic | undefined, alarms: readonly cloudwatch.Alarm[]): void {
  if (!topic) {
    return;
  }
  const action = new cw_actions.SnsAction(topic);
  for (const alarm of alarms) {
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
  }
}
