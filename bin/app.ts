#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addEnvironmentStages } from '../lib';

const app = new App();
addEnvironmentStages(app);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
