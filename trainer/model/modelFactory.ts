// The one place that maps `model.arch` to an implementation of RecursiveModel.
import type { ModelConfig } from '../../protocol/config';
import { AttractorModel } from './attractor';
import { HrmModel } from './hrm';
import type { RecursiveModel, TaskShape } from './recursiveModel';
import { TrmModel } from './trm';
import { TrmDeqModel } from './trmDeq';

export function createModel(config: ModelConfig, task: TaskShape): RecursiveModel & (TrmModel | HrmModel | TrmDeqModel | AttractorModel) {
  switch (config.arch) {
    case 'trm': return new TrmModel(config, task);
    case 'hrm': return new HrmModel(config, task);
    case 'trm-deq': return new TrmDeqModel(config, task);
    case 'attractor': return new AttractorModel(config, task);
  }
}
