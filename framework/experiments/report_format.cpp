#include "experiments/report_format.hpp"

#include <fmt/format.h>

#include <cmath>

#include "plot/svg_writer.hpp"

namespace cadenza {
namespace {

constexpr const char* kCss = R"(body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif;
  margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em;
  border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 1em 0; } figcaption { font-size: 0.9em; color: #555; max-width: 900px; }
svg { max-width: 100%; height: auto; }
)";

std::string markdown_cell(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

}  // namespace

std::string markdown_table(const ReportTable& table) {
  if (table.columns.empty()) return "";
  const auto line = [](const std::vector<std::string>& cells) {
    std::vector<std::string> escaped;
    for (const std::string& cell : cells)
      escaped.push_back(markdown_cell(cell));
    return fmt::format("| {} |\n", fmt::join(escaped, " | "));
  };
  std::string text = line(table.columns);
  text += "|";
  for (std::size_t i = 0; i < table.columns.size(); ++i)
    text += "---|";
  text += "\n";
  for (const auto& row : table.rows)
    text += line(row);
  return text + "\n";
}

std::string html_table(const ReportTable& table) {
  if (table.columns.empty()) return "";
  std::string html = "<table>\n<thead><tr>";
  for (const std::string& column : table.columns)
    html += "<th>" + svg::xml_escape(column) + "</th>";
  html += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    html += "<tr>";
    for (const std::string& cell : row)
      html += "<td>" + svg::xml_escape(cell) + "</td>";
    html += "</tr>\n";
  }
  return html + "</tbody>\n</table>\n";
}

std::string markdown_section(const ReportSection& section, int level) {
  std::string md = std::string(static_cast<std::size_t>(level), '#') + " " + section.title + "\n\n";
  for (const std::string& paragraph : section.paragraphs)
    md += paragraph + "\n\n";
  return md + markdown_table(section.table);
}

std::string html_section(const ReportSection& section, int level) {
  std::string html = fmt::format("<h{0}>{1}</h{0}>\n", level, svg::xml_escape(section.title));
  for (const std::string& paragraph : section.paragraphs)
    html += "<p>" + svg::xml_escape(paragraph) + "</p>\n";
  return html + html_table(section.table);
}

std::string html_page_start(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         svg::xml_escape(title) + "</title>\n<style>\n" + kCss + "</style>\n</head>\n<body>\n<h1>" +
         svg::xml_escape(title) + "</h1>\n";
}

std::string html_page_end() {
  return "</body>\n</html>\n";
}

std::string html_figure(const std::string& svg, const std::string& caption) {
  return "<figure>\n" + svg + "<figcaption>" + svg::xml_escape(caption) +
         "</figcaption>\n</figure>\n";
}

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string csv_line(const std::vector<std::string>& cells) {
  return fmt::format("{}\n", fmt::join(cells, ","));
}

std::string fixed(double value, int decimals) {
  return std::isfinite(value) ? fmt::format("{:.{}f}", value, decimals) : "—";
}

}  // namespace cadenza
