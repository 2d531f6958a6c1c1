#include "tools/trace_output.h"

#include <llvm/Support/raw_ostream.h>

#include <ctime>

namespace dynprobe::cli {

namespace {

const llvm::json::Value* find_value(const CallRecord& c, const PlannedValue& v) {
  return (v.is_result ? c.ret : c.args).get(v.key);
}

// "main.go:60": where an inlined call was made (the directory adds nothing
// in a cell; JSON carries the full path).
std::string call_site(const InlineCallSite& s) {
  std::string file = s.call_file;
  if (auto slash = file.rfind('/'); slash != std::string::npos) file = file.substr(slash + 1);
  return file + ":" + std::to_string(s.call_line);
}

int64_t unix_ns(const CallRecord& c, int64_t offset) {
  return static_cast<int64_t>(c.entry_monotonic_ns) + offset;
}

class JsonWriter : public RecordWriter {
 public:
  JsonWriter(FILE* out, int64_t offset) : out_(out), offset_(offset) {}
  void write(const CallRecord& c) override {
    std::string line;
    llvm::raw_string_ostream os(line);
    llvm::json::OStream j(os);
    j.object([&] {
      j.attribute("probe", c.probe->function);
      j.attribute("pid", static_cast<int64_t>(c.pid));
      j.attribute("tid", static_cast<int64_t>(c.tid));
      j.attribute("goid", static_cast<int64_t>(c.goid));
      j.attribute("time_ns", unix_ns(c, offset_));
      if (c.latency_ns) j.attribute("latency_ns", static_cast<int64_t>(*c.latency_ns));
      if (c.inlined) {
        j.attribute("inlined", true);
        j.attributeObject("call_site", [&] {
          j.attribute("caller", c.inlined->caller);
          j.attribute("file", c.inlined->call_file);
          j.attribute("line", static_cast<int64_t>(c.inlined->call_line));
        });
      }
      for (bool results : {false, true}) {
        j.attributeObject(results ? "ret" : "args", [&] {
          for (const PlannedValue& v : c.probe->values)
            if (v.is_result == results)
              if (const auto* val = find_value(c, v)) j.attribute(v.key, *val);
        });
      }
    });
    os.flush();
    fprintf(out_, "%s\n", line.c_str());
  }

 private:
  FILE* out_;
  int64_t offset_;
};

std::string clock_time(int64_t unix_ns) {
  time_t secs = unix_ns / 1000000000;
  struct tm tm;
  localtime_r(&secs, &tm);
  char buf[32];
  snprintf(buf, sizeof buf, "%02d:%02d:%02d.%06lld", tm.tm_hour, tm.tm_min, tm.tm_sec,
           static_cast<long long>((unix_ns / 1000) % 1000000));
  return buf;
}

class TableWriter : public RecordWriter {
 public:
  TableWriter(FILE* out, const std::vector<ProbePlan>& plans, int64_t offset)
      : out_(out), offset_(offset), widths_(plans.size()) {}

  void write(const CallRecord& c) override {
    std::vector<std::string> cells = {clock_time(unix_ns(c, offset_)), std::to_string(c.pid),
                                      std::to_string(c.tid), std::to_string(c.goid)};
    for (const PlannedValue& v : c.probe->values) {
      const auto* val = find_value(c, v);
      cells.push_back(val ? compact(*val) : "");
    }
    if (c.probe->want_latency) cells.push_back(c.latency_ns ? std::to_string(*c.latency_ns) : "");
    if (c.probe->inlined) cells.push_back(c.inlined ? call_site(*c.inlined) : "");
    std::vector<size_t>& widths = widths_[c.probe->id];
    if (widths.empty()) {
      // Columns are as wide as the header or the first row; a wider cell later
      // pushes its row right rather than being cut.
      std::vector<std::string> header = {"TIME", "PID", "TID", "GOID"};
      for (const PlannedValue& v : c.probe->values) header.push_back(v.key);
      if (c.probe->want_latency) header.push_back("LATENCY_NS");
      if (c.probe->inlined) header.push_back("INLINED_AT");
      for (size_t i = 0; i < header.size(); ++i)
        widths.push_back(std::max(header[i].size(), i < cells.size() ? cells[i].size() : 0));
      std::string title = c.probe->function;
      if (c.probe->inlined)
        title += " (inlined into " + c.probe->inlined->caller + " at " +
                 call_site(*c.probe->inlined) + ")";
      fprintf(out_, "%s%s\n", tables_++ ? "\n" : "", title.c_str());
      print_row(header, widths);
    }
    print_row(cells, widths);
  }

 private:
  void print_row(const std::vector<std::string>& row, const std::vector<size_t>& widths) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string cell = row[i];
      if (i + 1 < row.size() && i < widths.size())
        cell.resize(std::max(cell.size(), widths[i]), ' ');
      line += cell + (i + 1 < row.size() ? "  " : "");
    }
    fprintf(out_, "%s\n", line.c_str());
  }

  FILE* out_;
  int64_t offset_;
  std::vector<std::vector<size_t>> widths_;  // per probe
  int tables_ = 0;
};

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

class CsvWriter : public RecordWriter {
 public:
  CsvWriter(FILE* out, const std::vector<ProbePlan>& plans, int64_t offset)
      : out_(out), offset_(offset) {
    for (const ProbePlan& p : plans)
      for (const PlannedValue& v : p.values) {
        std::string col = (v.is_result ? "ret." : "args.") + v.key;
        if (std::find(columns_.begin(), columns_.end(), col) == columns_.end())
          columns_.push_back(col);
      }
    std::string header = "probe,time_ns,pid,tid,goid,latency_ns,inlined_at";
    for (const std::string& c : columns_) header += "," + csv_cell(c);
    fprintf(out_, "%s\n", header.c_str());
  }

  void write(const CallRecord& c) override {
    std::string line = csv_cell(c.probe->function) + "," + std::to_string(unix_ns(c, offset_)) +
                       "," + std::to_string(c.pid) + "," + std::to_string(c.tid) + "," +
                       std::to_string(c.goid) + "," +
                       (c.latency_ns ? std::to_string(*c.latency_ns) : "") + "," +
                       (c.inlined ? csv_cell(call_site(*c.inlined)) : "");
    for (const std::string& col : columns_) {
      line += ",";
      for (const PlannedValue& v : c.probe->values)
        if ((v.is_result ? "ret." : "args.") + v.key == col)
          if (const auto* val = find_value(c, v)) line += csv_cell(compact(*val));
    }
    fprintf(out_, "%s\n", line.c_str());
  }

 private:
  FILE* out_;
  int64_t offset_;
  std::vector<std::string> columns_;
};

}  // namespace

std::string compact(const llvm::json::Value& v) {
  if (auto s = v.getAsString()) return s->str();
  // Markers read better as <...> in a cell than as JSON objects.
  if (const auto* o = v.getAsObject(); o && o->size() == 1) {
    if (auto why = o->getString("$unavailable")) return "<" + why->str() + ">";
    if (o->get("$unreadable")) return "<unreadable>";
  }
  std::string out;
  llvm::raw_string_ostream os(out);
  os << v;
  return os.str();
}

Result<std::unique_ptr<RecordWriter>> make_writer(const std::string& format, FILE* out,
                                                  const std::vector<ProbePlan>& plans,
                                                  int64_t realtime_offset_ns) {
  if (format == "json") return std::make_unique<JsonWriter>(out, realtime_offset_ns);
  if (format == "table") return std::make_unique<TableWriter>(out, plans, realtime_offset_ns);
  if (format == "csv") return std::make_unique<CsvWriter>(out, plans, realtime_offset_ns);
  return fail("--format must be table, json or csv, not '" + format + "'");
}

}  // namespace dynprobe::cli
