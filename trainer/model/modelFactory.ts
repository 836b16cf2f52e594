// The one place that maps `model.arch` to an implementation of RecursiveModel.
import type { ModelConfig } from '../../protocol/config';
import { HrmModel } from './hrm';
import type { RecursiveModel, TaskShape } from './recursiveModel';
import { TrmModel } from './trm';

export function createModel(config: ModelConfig, task: TaskShape): RecursiveModel & (TrmModel | HrmModel) {
  switch (config.arch) {
    case 'trm': return new TrmModel(config, task);
    case 'hrm': return new HrmModel(config, task);
  }
}
