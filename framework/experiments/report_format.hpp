// The building blocks of cadenza's reports (a comparison's, experiments/report.hpp, and a
// search's, experiments/search_report.hpp): tables and sections rendered as Markdown or HTML, the
// HTML page with its inline style, CSV lines and number formats. Every text that goes into HTML is
// XML-escaped here.
#pragma once

#include <string>
#include <vector>

namespace cadenza {

// A table as plain cell texts.
struct ReportTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

// A section: a title, paragraphs, then a table (none when it has no columns).
struct ReportSection {
  std::string title;
  std::vector<std::string> paragraphs;
  ReportTable table;
};

// "| a | b |" lines with the header rule and a blank line after; "" for a table without columns.
std::string markdown_table(const ReportTable& table);
// <table> with <thead> and <tbody>; "" for a table without columns.
std::string html_table(const ReportTable& table);

// "## title" (`level` hashes), the paragraphs, the table.
std::string markdown_section(const ReportSection& section, int level = 2);
// <h2> (or <h`level`>), <p> paragraphs, the table.
std::string html_section(const ReportSection& section, int level = 2);

// The start of a self-contained HTML page: doctype, <title>, the inline CSS, <body> and the <h1>.
std::string html_page_start(const std::string& title);
// "</body>\n</html>\n".
std::string html_page_end();
// <figure> holding an inline SVG document and its caption.
std::string html_figure(const std::string& svg, const std::string& caption);

// A CSV cell: quoted (with "" for ") when it holds a comma, a quote or a newline.
std::string csv_cell(const std::string& text);
// The cells (already csv_cell'ed) joined by commas, with a newline.
std::string csv_line(const std::vector<std::string>& cells);

// `value` with `decimals` decimals, "—" when it is not finite.
std::string fixed(double value, int decimals = 4);

}  // namespace cadenza
