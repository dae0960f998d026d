#!/usr/bin/env node
import { main } from '../lib/cli/program'; void main();
