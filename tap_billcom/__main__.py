from tap_billcom.tap import TapBillcom

TapBillcom.cli()
