#include "hpt/engine/study_copy.hpp"

#include "hpt/storage/attribute_names.hpp"

namespace hpt {

StudyCopy copy_study(Storage& from, const StudyInfo& study, Storage& to,
                     const std::string& to_name) {
  StudyImport copy;
  copy.name = to_name;
  copy.directions = study.directions;
  copy.user_attrs = from.study_user_attrs(study.id);
  copy.system_attrs = from.study_system_attrs(study.id);
  copy.system_attrs.erase(k_study_key_attr);
  copy.trials = from.get_all_trials(study.id);
  StudyCopy out;
  for (FrozenTrial& t : copy.trials) {
    if (t.state == TrialState::Running) {
      t.state = TrialState::Waiting;
      t.datetime_start.reset();
      t.intermediate_values.clear();
      t.value.reset();
      t.values.clear();
      t.system_attrs.erase(k_owner_attr);
      out.handed_back += 1;
    }
  }
  out.study_id = to.import_study(copy);
  out.trials = copy.trials.size();
  return out;
}

}  // namespace hpt
