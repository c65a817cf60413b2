#!/usr/bin/env python3
"""Dump what the independent `cielo-edi` parser (PyPI, MIT) reads from a Cielo EDI file: one JSON object per
record, in line order, with the record class name under "_record". Decimals are written as strings (exact),
dates and times as ISO strings. Used by tests/cielo_edi_oracle.rs as a field-by-field oracle."""
import datetime
import decimal
import json
import sys

from cielo_edi.parser import CieloEDIParser


def plain(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value)}")


def main(path):
    out = sys.stdout
    for record in CieloEDIParser().processar_streaming(path):
        fields = record.model_dump(mode="python")
        fields["_record"] = type(record).__name__
        out.write(json.dumps(fields, default=plain, ensure_ascii=False))
        out.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
