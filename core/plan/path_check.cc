#include "core/plan/path_check.h"

#include <algorithm>

#include "core/signature.h"

namespace dynprobe {

namespace {

std::string join_names(const std::vector<Variable>& vars, bool results) {
  std::string out;
  for (size_t i = 0; i < vars.size(); ++i) {
    std::string n = results ? result_key(i) : vars[i].name;
    if (results && !vars[i].name.empty() && !vars[i].name.starts_with("~"))
      n += " (" + vars[i].name + ")";
    out += (i ? ", " : "") + n;
  }
  return out.empty() ? "none" : out;
}

TypeId strip_pointers(const TypeTable& types, TypeId t) {
  while (types.get(t).kind == TypeKind::Pointer && types.get(t).elem != kNoType)
    t = types.get(t).elem;
  return t;
}

// "int64", "main.Money (struct)": what a path error says a value is.
std::string describe_type(const TypeTable& types, TypeId t) {
  const Type& ty = types.get(t);
  std::string kind(kind_name(ty.kind));
  if (ty.name.empty()) return kind;
  bool obvious = ty.kind == TypeKind::Int || ty.kind == TypeKind::Uint ||
                 ty.kind == TypeKind::Float || ty.kind == TypeKind::Bool ||
                 ty.kind == TypeKind::String || ty.name == kind;
  return obvious ? ty.name : ty.name + " (" + kind + ")";
}

// A map index (`m["k"]`, `m[3]`) or a type assertion (`e.(*main.T)`) at `t`:
// the key must fit the map's key type, the asserted type must exist in the
// DWARF and `t` must be an interface. Advances `t` and `where`.
Status check_key_or_assert(Binary& binary, TypeId& t, std::string& where, const PathStep& step) {
  if (step.kind == PathStep::Kind::Assert) {
    if (binary.types().get(t).kind != TypeKind::Interface)
      return fail(where + ".(" + step.field + "): " + where + " is not an interface: it is " +
                  describe_type(binary.types(), t));
    auto target = binary.debug().type_named(step.field);
    if (!target)
      return fail(where + ".(" + step.field + "): no type " + step.field +
                  " in the binary's DWARF (write it as Go prints it: *main.T, main.T)");
    t = *target;
    where += ".(" + step.field + ")";
    return {};
  }
  const TypeTable& types = binary.types();
  const Type& m = types.get(t);
  std::string key = step.kind == PathStep::Kind::Key
                        ? "\"" + step.field + "\""
                        : (step.negative ? "-" : "") + std::to_string(step.index);
  if (m.kind != TypeKind::Map)
    return fail(where + "[" + key + "]: " + where + " is not a map: it is " +
                describe_type(types, t));
  TypeKind kk = types.get(m.key).kind;
  bool fits = step.kind == PathStep::Kind::Key
                  ? kk == TypeKind::String
                  : kk == TypeKind::Int || (kk == TypeKind::Uint && !step.negative);
  if (!fits)
    return fail(where + "[" + key + "]: the map's key type is " + describe_type(types, m.key));
  t = m.elem;
  where += "[" + key + "]";
  return {};
}

}  // namespace

// Checks `e`'s path and function against the root's type, as Go would type
// them, so that a typo fails when the probe is planned, naming what exists.
Status check_path(Binary& binary, TypeId root, const std::string& root_name, const ProbeExpr& e) {
  TypeId t = root;
  std::string where = root_name;
  for (const PathStep& step : e.path) {
    const TypeTable& types = binary.types();
    switch (step.kind) {
      case PathStep::Kind::Key:
      case PathStep::Kind::Assert:
        if (auto st = check_key_or_assert(binary, t, where, step); !st)
          return std::unexpected(st.error());
        continue;
      case PathStep::Kind::Index:
        if (types.get(t).kind == TypeKind::Map) {
          if (auto st = check_key_or_assert(binary, t, where, step); !st)
            return std::unexpected(st.error());
          continue;
        }
        break;
      default:
        break;
    }
    switch (step.kind) {
      case PathStep::Kind::Field: {
        t = strip_pointers(types, t);
        const Type& st = types.get(t);
        if (st.kind != TypeKind::Struct)
          return fail(where + " has no field " + step.field + ": it is " + describe_type(types, t));
        if (!st.variant_part.variants.empty()) {
          std::string names;
          for (const Variant& v : st.variant_part.variants)
            names += (names.empty() ? "" : ", ") + v.name;
          return fail(where + " is an enum (variants: " + names +
                      "); capture it whole, paths into variants are not supported");
        }
        auto f = std::find_if(st.fields.begin(), st.fields.end(),
                              [&](const Field& f) { return f.name == step.field; });
        if (f == st.fields.end()) {
          std::string names;
          for (const Field& x : st.fields) names += (names.empty() ? "" : ", ") + x.name;
          return fail(where + " has no field " + step.field +
                      "; fields: " + (names.empty() ? "none" : names));
        }
        t = f->type;
        where += "." + step.field;
        break;
      }
      case PathStep::Kind::Index: {
        if (types.get(t).kind == TypeKind::Pointer &&
            types.get(types.get(t).elem).kind == TypeKind::Array)
          t = types.get(t).elem;
        const Type& at = types.get(t);
        if (at.kind != TypeKind::Array && at.kind != TypeKind::Slice)
          return fail(where + " cannot be indexed: it is " + describe_type(types, t));
        if (at.kind == TypeKind::Array && step.index >= at.count)
          return fail(where + "[" + std::to_string(step.index) + "]: index out of range (length " +
                      std::to_string(at.count) + ")");
        t = at.elem;
        where += "[" + std::to_string(step.index) + "]";
        break;
      }
      case PathStep::Kind::Deref:
        if (types.get(t).kind != TypeKind::Pointer)
          return fail("*" + where + ": " + where + " is not a pointer: it is " +
                      describe_type(types, t));
        t = types.get(t).elem;
        where = "*" + where;
        break;
    }
  }
  const TypeTable& types = binary.types();
  TypeKind k = types.get(t).kind;
  if (e.fn == ProbeExpr::Fn::Len && k != TypeKind::String && k != TypeKind::Slice &&
      k != TypeKind::Array && k != TypeKind::Map && k != TypeKind::Chan)
    return fail("len(" + where + "): " + where + " is " + describe_type(types, t));
  if (e.fn == ProbeExpr::Fn::Cap && k != TypeKind::Slice && k != TypeKind::Array &&
      k != TypeKind::Chan)
    return fail("cap(" + where + "): " + where + " is " + describe_type(types, t));
  return {};
}

Result<std::vector<Selected>> select_values(const Function& fn, const ProbeSpec& spec,
                                            ProbePlan& plan) {
  std::vector<Selected> out;
  if (spec.capture_all) {
    for (size_t i = 0; i < fn.params.size(); ++i)
      out.push_back({&fn.params[i], i, false, fn.params[i].name});
    for (size_t i = 0; i < fn.results.size(); ++i)
      out.push_back({&fn.results[i], i, true, result_key(i)});
    plan.want_latency = true;
    return out;
  }
  plan.want_latency = false;
  auto unknown = [&](const std::string& what) {
    return fail(fn.name + " has no " + what + "; parameters: " + join_names(fn.params, false) +
                "; results: " + join_names(fn.results, true));
  };
  for (const ProbeExpr& e : spec.exprs) {
    switch (e.kind) {
      case ProbeExpr::Kind::Latency:
        plan.want_latency = true;
        break;
      case ProbeExpr::Kind::Goid:
        plan.want_goid = true;
        break;
      case ProbeExpr::Kind::Result:
        if (e.index >= fn.results.size()) return unknown("result " + e.text);
        out.push_back({&fn.results[e.index], e.index, true, e.text, &e});
        break;
      case ProbeExpr::Kind::Name: {
        auto p = std::find_if(fn.params.begin(), fn.params.end(),
                              [&](const Variable& v) { return v.name == e.name; });
        if (p != fn.params.end()) {
          out.push_back({&*p, static_cast<size_t>(p - fn.params.begin()), false, e.text, &e});
          break;
        }
        auto r = std::find_if(fn.results.begin(), fn.results.end(),
                              [&](const Variable& v) { return v.name == e.name; });
        if (r == fn.results.end()) return unknown("parameter or named result '" + e.name + "'");
        out.push_back({&*r, static_cast<size_t>(r - fn.results.begin()), true, e.text, &e});
        break;
      }
    }
  }
  return out;
}

}  // namespace dynprobe
