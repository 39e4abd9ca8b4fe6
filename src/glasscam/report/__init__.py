"""Reports: study summary tables and the findings page."""
