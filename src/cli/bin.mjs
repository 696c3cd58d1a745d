#!/usr/bin/env node
// The `evs` bin: the CLI runs from its TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./evs.ts');
