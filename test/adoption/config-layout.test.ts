/** target.layout + deploy_to in the configuration: what resolves, and the errors naming the key. */
import { describe, expect, it } from 'vitest';
import { parseConfigText, resolveEnvironment } from '../../src/core/config/load.js';
import { problemsOf } from '../config/helpers.js';

describe('target.layout', () => {
  it('resolves releases/, current and the state directory under deploy_to', () => {
    const loaded = parseConfigText('environments:\n  prod:\n    executor: { type: ssh, host: app-1 }\n    target: { strategy: symlink, layout: capistrano, deploy_to: /var/www/app/ }\n', { filepath: '/cfg/rollback-config.yml', env: {} });
    const env = resolveEnvironment(loaded, 'prod');
    expect(env.target).toMatchObject({ layout: 'capistrano', deploy_to: '/var/www/app/', backups_dir: '/var/www/app/releases', current: '/var/www/app/current' });
    expect(env.state_dir).toBe('/var/www/app/.rollback-tui');
  });

  it('names the key: deploy_to missing, backups_dir or current beside a layout, deploy_to without one', () => {
    expect(problemsOf('environments:\n  prod:\n    target: { strategy: symlink, layout: deployer }\n')).toEqual([
      'test.yml:3:5: environments.prod.target.deploy_to: required key is missing (expected a string)',
    ]);
    const both = problemsOf('environments:\n  prod:\n    target: { strategy: symlink, layout: deployer, deploy_to: /d, backups_dir: /b }\n');
    expect(both).toHaveLength(1);
    expect(both[0]).toMatch(/environments\.prod\.target\.backups_dir: backups_dir does not go with layout: deployer/);
    const stray = problemsOf('environments:\n  prod:\n    target: { strategy: symlink, deploy_to: /d, backups_dir: /b, current: /c }\n');
    expect(stray[0]).toMatch(/environments\.prod\.target\.deploy_to: deploy_to does not go with no layout: add layout: capistrano/);
    expect(problemsOf('environments:\n  prod:\n    target: { strategy: symlink, layout: kamal, deploy_to: /d }\n')[0]).toMatch(/target\.layout/);
  });
});
